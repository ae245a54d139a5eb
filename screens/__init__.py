"""Kivy views: thin screens that render view models and turn touches into intents."""
