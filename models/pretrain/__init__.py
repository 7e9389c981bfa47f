"""LLaMA-architecture causal LMs pretrained on a mixture (the proxies QuaDMix searches with)."""
