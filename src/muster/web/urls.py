from django.urls import include, path

from muster.web import (
    audit_views,
    count_views,
    custody_views,
    document_views,
    item_views,
    people_views,
    person_action_views,
    transfer_views,
    views,
)

app_patterns = [
    path("people/", people_views.roster, name="people"),
    path("people/roster.<str:fmt>", document_views.roster_download, name="roster-download"),
    path("people/<int:pk>/", people_views.person, name="person"),
    path("people/<int:pk>/hand-receipt.pdf", people_views.receipt_pdf, name="hand-receipt"),
    path("people/<int:pk>/qualify", person_action_views.qualify, name="person-qualify"),
    path(
        "people/<int:pk>/qualifications/<int:qualification_pk>/revoke",
        person_action_views.revoke,
        name="person-revoke",
    ),
    path("people/<int:pk>/status", person_action_views.status, name="person-status"),
    path("people/<int:pk>/move", person_action_views.move, name="person-move"),
    path("readiness.pdf", document_views.readiness_report, name="readiness-pdf"),
    path("items/", item_views.items, name="items"),
    path("items/items.<str:fmt>", document_views.items_download, name="items-download"),
    path("items/<int:pk>/", item_views.item, name="item"),
    path("items/<int:pk>/proof", item_views.item_proof, name="item-proof"),
    path("items/<int:pk>/history.pdf", document_views.item_history, name="item-history-pdf"),
    path("sites/<int:pk>/labels.pdf", document_views.site_labels, name="site-labels"),
    path("audit/", audit_views.audit, name="audit"),
    path("issue/", custody_views.issue, name="issue"),
    path("return/", custody_views.take_back, name="return"),
    path("counts/", count_views.counts, name="counts"),
    path("counts/start", count_views.start, name="count-start"),
    path("counts/<int:pk>/", count_views.count, name="count"),
    path("counts/<int:pk>/record", count_views.record, name="count-record"),
    path("counts/<int:pk>/close", count_views.close, name="count-close"),
    path(
        "counts/<int:pk>/variances/<int:variance_pk>/resolve",
        count_views.resolve,
        name="variance-resolve",
    ),
    path("counts/<int:pk>/sheet.pdf", document_views.count_sheet, name="count-sheet"),
    path("counts/<int:pk>/variances.pdf", document_views.count_variances, name="count-variances"),
    path("transfers/", transfer_views.transfers, name="transfers"),
    path("transfers/dispatch", transfer_views.dispatch, name="transfer-dispatch"),
    path("transfers/<int:pk>/", transfer_views.transfer, name="transfer"),
    path("incidents/", transfer_views.incidents, name="incidents"),
    path("incidents/<int:pk>/", transfer_views.incident, name="incident"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    path("imports/", include("muster.web.import_urls")),
    path("", include((app_patterns, "web"))),
]
