"""Thresher: what every runtime shares — configuration, table declarations, accounting, tracking."""
