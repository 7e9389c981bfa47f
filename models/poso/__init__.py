"""POSO (Dai et al., 2021): personalised cold-start modules on MovieLens-format events."""
