"""Reading awesome lists and searching them.

The flow: ``parser`` turns Markdown into a ``model.ListDocument`` of ``Entry`` objects;
``diff`` compares two documents by entry identity; ``analysis`` holds the Whoosh analyzers
(English stemming, Chinese segmentation); ``search`` builds the index and answers queries.
Nothing here knows about chats or platforms.
"""
