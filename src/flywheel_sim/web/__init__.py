"""The web dashboard (``flywheel serve``) and the one-file HTML report (``flywheel report``).

Needs the ``web`` extra (Dash, dash-cytoscape, Plotly); nothing here is imported by
``import flywheel_sim``.
"""
