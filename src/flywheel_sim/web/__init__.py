"""The web dashboard (``flywheel serve``): the Dash app, its callbacks and background jobs.

Needs the ``web`` extra (Dash, dash-cytoscape, Plotly); nothing here is imported by
``import flywheel_sim``, nor by ``flywheel report`` (:mod:`flywheel_sim.present.html_report`),
which shares the dashboard's figures and analyses from :mod:`flywheel_sim.present`.
"""
