"""Wi-Fi without Imager: when no network comes up after boot (or the button is held at boot), Billy opens an
open access point, "Billy-Setup", with a captive page that lists the networks he can hear and takes one's
password; he then closes the access point and joins it. On a failed join the access point opens again and the
page says why.

The machine is the image's: systemd-networkd and wpa_supplicant@wlan0 (no NetworkManager). `online` decides,
`access_point` opens and closes the access point (hostapd and a runtime networkd file with its DHCP server),
`captive_dns` and `captive_page` are what a phone meets there, `networks` checks what the page was given and
writes wpa_supplicant's file, `radio` scans and reads the join, and `setup` runs the whole.
"""
