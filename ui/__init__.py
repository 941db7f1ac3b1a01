"""Streamlit-side helpers shared by the lesson pages: plotly figure builders and persistent widgets.

``ui.figures`` builds plotly figures from plain arrays (no Streamlit import there);
``ui.widgets`` keeps widget values in Session State so they survive reruns and page switches.
"""
