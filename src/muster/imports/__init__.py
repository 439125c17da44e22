"""Bulk imports run by a signed-in user, from the browser or the API (R1): the kinds of
import, the uploaded file kept between its check and its confirmation, and the run confined
to what the user may change. The importers themselves are the command line's
(muster.*.importing over muster.core.importing)."""
