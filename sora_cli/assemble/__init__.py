"""Assemble: stitch shot files, mux the soundtrack and subtitles, write the report."""
