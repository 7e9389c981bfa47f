"""QuaDMix mixture search: proxy models on sampled mixtures, a regressor, the choice."""
