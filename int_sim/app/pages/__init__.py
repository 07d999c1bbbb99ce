"""The app's pages: each module has a ``render()`` function that draws the page."""
