"""kclient's IPython layer (``%kclient`` magics and widgets), installed as ``kclient.magics``.

It lives in the repository's top-level ``magics/`` folder and ships inside the kclient
wheel; the client core in ``kclient/`` never imports it.
"""
