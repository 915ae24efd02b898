"""The three-task corpus builder: ``python -m train.data --preset ci|small|default --out DIR``.

See README.md in this folder for what it builds, where labels live and how the splits are kept apart.
"""
