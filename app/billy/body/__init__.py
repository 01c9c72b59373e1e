"""The fish: motors and button through gpiozero, and the timeline of what every motor did."""
