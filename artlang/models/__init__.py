"""Generative models: GAN and VAE architectures, safe loading, latent arithmetic, training.

Nothing here imports torch at module level except `architectures`, `store`'s loaders and
`training`, which are imported only when a sketch or command uses a model. `config` and `latent`
are plain Python and numpy.
"""
