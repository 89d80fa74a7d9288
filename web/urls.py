from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("notifications/", views.notifications_inbox, name="notifications"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path(
        "notifications/preferences/",
        views.notification_preferences,
        name="notification-preferences",
    ),
    path("cases/", views.caseload, name="caseload"),
    path("clients/new/", views.client_register, name="client-new"),
    path("clients/<int:pk>/", views.client_detail, name="client"),
    path("clients/<int:pk>/edit/", views.client_edit, name="client-edit"),
    path("clients/<int:pk>/open-case/", views.case_open, name="client-open-case"),
    path("clients/<int:pk>/household/", views.household_add, name="client-household"),
    path(
        "clients/<int:pk>/household/leave/",
        views.household_leave,
        name="client-household-leave",
    ),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/start-review/", views.review_start, name="review-start"),
    path("cases/<int:pk>/bring-forward/", views.review_bring_forward, name="review-bring-forward"),
    path("cases/<int:pk>/coordinator/", views.case_coordinator, name="case-coordinator"),
    path("cases/<int:pk>/close/", views.case_close, name="case-close"),
    path(
        "cases/<int:pk>/household-transfer/",
        views.household_propose,
        name="household-propose",
    ),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    path("reviews/<int:pk>/assess/", views.review_assess, name="review-assess"),
    path("reviews/<int:pk>/extension/", views.review_extension, name="review-extension"),
    path("reviews/<int:pk>/not-ready/", views.review_not_ready, name="review-not-ready"),
    path("reviews/<int:pk>/propose/", views.review_propose, name="review-propose"),
    path("assessments/<int:pk>/exception/", views.approve_exception, name="approve-exception"),
    path(
        "assessments/<int:pk>/request-exception/",
        views.request_exception,
        name="request-exception",
    ),
    path(
        "assessments/<int:pk>/exception-decision/",
        views.exception_decide,
        name="exception-decide",
    ),
    path("transfers/", views.inbox, name="inbox"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer"),
    path(
        "transfers/<int:pk>/accept/",
        views.transfer_action,
        {"action": "accept"},
        name="transfer-accept",
    ),
    path(
        "transfers/<int:pk>/return/",
        views.transfer_action,
        {"action": "return"},
        name="transfer-return",
    ),
    path(
        "transfers/<int:pk>/confirm/",
        views.transfer_action,
        {"action": "confirm"},
        name="transfer-confirm",
    ),
    path(
        "transfers/<int:pk>/held/",
        views.transfer_action,
        {"action": "complete"},
        name="transfer-complete",
    ),
    path(
        "transfers/<int:pk>/rebook/",
        views.transfer_action,
        {"action": "rebook"},
        name="transfer-rebook",
    ),
    path(
        "transfers/<int:pk>/cancel/",
        views.transfer_action,
        {"action": "cancel"},
        name="transfer-cancel",
    ),
    path(
        "transfers/<int:pk>/confirm-attendance/",
        views.transfer_action,
        {"action": "attend"},
        name="transfer-attend",
    ),
    path(
        "transfers/<int:pk>/retry-booking/",
        views.transfer_action,
        {"action": "retry"},
        name="transfer-retry",
    ),
    path("desk/", views.desk, name="desk"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("supervisor/figures/", views.figures, name="figures"),
    path(
        "supervisor/clients/<int:pk>/access-log.pdf",
        views.client_access_report,
        name="client-access-report",
    ),
    path("supervisor/reassign/", views.reassign, name="reassign"),
    path("extensions/<int:pk>/decide/", views.extension_decide, name="extension-decide"),
]
