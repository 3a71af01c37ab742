"""Reusable widgets; screens set their attributes, widgets never reach into the runtime."""
