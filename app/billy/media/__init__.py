"""What Billy plays: songs with their stems, the wake-up and error clips, and the player that moves the fish
with the sound."""
