"""Manufacturing: part design, topology optimisation and inspection."""
