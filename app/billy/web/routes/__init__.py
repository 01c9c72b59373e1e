"""The web page's routes, one module per page or group of pages; each gives `routes(web)`."""
