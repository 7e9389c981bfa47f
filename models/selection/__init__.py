"""The selection study's arms: one selection under the quota, a proxy trained on it, scored."""
