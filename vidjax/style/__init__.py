"""Video style transfer: Gatys et al.'s optimisation over VGG-19 features (gatys.py) and the official CycleGAN
generators (models/cyclegan.py), applied to every frame of a video (transfer.py), with optical-flow initialisation
and the warping error (flow.py). `python -m vidjax.style --help`; the web page (vidjax/web) calls the same code.
"""
