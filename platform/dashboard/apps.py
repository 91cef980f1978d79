from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboards"

    def ready(self):
        from dashboard.prices import dashboard_demand
        from trading.market.demand import register_demand_provider

        # Open dashboards add the prices they show to what the market poller fetches.
        register_demand_provider(dashboard_demand)
