"""Presentation: what the terminal, the dashboard and the report show. Imports matplotlib,
plotly and rich only when something is drawn or printed; nothing here imports Dash.

- terminal: :mod:`.tables` (results, models), :mod:`.loop_tables` (loops, dominance,
  diagnosis), :mod:`.run_summary` (what ``flywheel run`` does after simulating),
  :mod:`.markdown` (model docs);
- charts (matplotlib): :mod:`.charts`, :mod:`.report` (key figures against history),
  :mod:`.study` (study charts, percentile bands), :mod:`.diagram` (the causal-loop diagram);
- shared by the dashboard and the report: :mod:`.analyses` (plain data), :mod:`.uncertainty`
  (Monte Carlo bands), :mod:`.figures` and :mod:`.figures_study` (Plotly);
- the one-file report: :mod:`.html_page` and :mod:`.html_report`.
"""
