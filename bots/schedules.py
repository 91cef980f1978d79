from django.conf import settings

SCHEDULES = [
    {
        "name": "Evaluate bot subscriptions",
        "task": "bots.tasks.bots_evaluate",
        "every_seconds": max(int(settings.BOTS_EVALUATE_INTERVAL), 1),
        "queue": "bots",
        "description": "Every running subscription with a newly closed candle, grouped by exchange, symbol and "
        "timeframe: candles fetched once per group, one signal per bot and config.",
    },
]
