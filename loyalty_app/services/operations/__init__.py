"""What runs the program rather than serving a screen: the periodic jobs and the demo data.

May use every context package.
"""
