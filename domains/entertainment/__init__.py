"""Entertainment: virtual characters and script writing."""
