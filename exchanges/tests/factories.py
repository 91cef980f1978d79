import factory

from exchanges.adapters.types import Credentials
from exchanges.models import ExchangeConnection
from tenancy.tests.factories import TenantFactory

API_KEY = "AKIAexamplekey0000wxyz"
SECRET = "s3cr3t-example-value-9f8e7d"


class ExchangeConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeConnection
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    exchange = "binance"
    label = factory.Sequence(lambda n: f"Binance {n}")

    @factory.post_generation
    def credentials(obj, create, extracted, **kwargs):
        obj.set_credentials(extracted if extracted is not None else Credentials(apiKey=API_KEY, secret=SECRET))
        if create:
            obj.save()
