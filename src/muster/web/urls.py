from django.urls import include, path

from muster.web import audit_views, custody_views, item_views, people_views, views

app_patterns = [
    path("people/", people_views.roster, name="people"),
    path("people/<int:pk>/", people_views.person, name="person"),
    path("people/<int:pk>/hand-receipt.pdf", people_views.receipt_pdf, name="hand-receipt"),
    path("items/", item_views.items, name="items"),
    path("items/<int:pk>/", item_views.item, name="item"),
    path("items/<int:pk>/proof", item_views.item_proof, name="item-proof"),
    path("audit/", audit_views.audit, name="audit"),
    path("issue/", custody_views.issue, name="issue"),
    path("return/", custody_views.take_back, name="return"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    path("", include((app_patterns, "web"))),
]
