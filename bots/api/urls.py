from django.urls import path

from bots.api import views

urlpatterns = [
    path("bots/", views.BotListApi.as_view(), name="api-bots"),
    path("bots/<int:bot_id>/", views.BotApi.as_view(), name="api-bot"),
    path("bots/<int:bot_id>/files/", views.BotFilesApi.as_view(), name="api-bot-files"),
    path("bots/<int:bot_id>/upload-file/", views.BotUploadApi.as_view(), name="api-bot-upload"),
    path("bots/<int:bot_id>/test/", views.BotTestApi.as_view(), name="api-bot-test"),
    path("bots/<int:bot_id>/submit/", views.BotSubmitApi.as_view(), name="api-bot-submit"),
    path("bots/<int:bot_id>/unpublish/", views.BotUnpublishApi.as_view(), name="api-bot-unpublish"),
    path("subscriptions/", views.SubscriptionListApi.as_view(), name="api-subscriptions"),
    path("subscriptions/<int:subscription_id>/", views.SubscriptionApi.as_view(), name="api-subscription"),
    path("subscriptions/<int:subscription_id>/pause/", views.SubscriptionMoveApi.as_view(move="pause"),
         name="api-subscription-pause"),
    path("subscriptions/<int:subscription_id>/resume/", views.SubscriptionMoveApi.as_view(move="resume"),
         name="api-subscription-resume"),
    path("subscriptions/<int:subscription_id>/stop/", views.SubscriptionMoveApi.as_view(move="stop"),
         name="api-subscription-stop"),
    path("subscriptions/<int:subscription_id>/signals/", views.SubscriptionSignalsApi.as_view(),
         name="api-subscription-signals"),
    path("subscriptions/<int:subscription_id>/performance/", views.SubscriptionPerformanceApi.as_view(),
         name="api-subscription-performance"),
    path("backtests/", views.BacktestListApi.as_view(), name="api-backtests"),
    path("backtests/<int:backtest_id>/", views.BacktestApi.as_view(), name="api-backtest"),
]  # fmt: skip
