"""Generative models for inference: GAN and VAE architectures, safe loading, latent arithmetic.

Nothing here imports torch at module level except `architectures` and `store`'s loaders, which
are imported only when a sketch or command uses a model. `config` and `latent` are plain Python
and numpy. Training lives in `artlang.training`.
"""
