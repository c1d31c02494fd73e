from django.db import models


class Member(models.Model):
    card = models.CharField(max_length=32, unique=True)
    badge = models.CharField(max_length=32, unique=True)
    pin_hash = models.CharField(max_length=128)

    def check_pin(self, pin: str) -> bool:
        raise NotImplementedError
