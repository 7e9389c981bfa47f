"""GPU-side code: rating, training, pretraining and evaluation entry points."""
