"""The official registration form (排查登记表) as an XLSX workbook.

Agencies fill the form in Excel, WPS or LibreOffice rather than write JSON; ``template`` hands
out the blank form and ``reader`` turns a filled one back into the ``entries`` of a report,
judged by the very schema of the JSON API. ``layout`` is the one description both share.
"""
