"""What every page shares: the settings table and its widgets, number formatting, plot style."""
