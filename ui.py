"""Gradio web UI (see issue: UI). Placeholder until the UI lands."""
