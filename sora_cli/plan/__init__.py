"""Plan: resolve a checked storyboard into the frozen timeline every later stage reads.

``model`` holds the Plan's types, ``resolve`` builds it (world carried through
``set:``, voices, timing from real speech, seeds and prompts).
"""
