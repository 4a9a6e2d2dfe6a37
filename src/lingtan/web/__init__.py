"""The dashboard: server-rendered pages (Jinja2) with Plotly charts, Chinese by default.

Plotly's JavaScript is served from the installed ``plotly`` package, so the pages work offline.
"""
