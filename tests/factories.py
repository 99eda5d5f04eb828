"""Factories shared by every app's tests (users and roles)."""

import factory
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from bostadforst.models import User
from bostadforst.roles import Role

TEST_PASSWORD = "korrekt-hast-batteri-häftklammer"


def role_group(role: Role) -> Group:
    """The role's group, which a data migration made; made again with its
    permissions when a transactional test earlier on this worker flushed it
    (a test that takes its users through ``request.getfixturevalue`` is not
    seen as a database test by pytest-django and may run after those)."""
    group, created = Group.objects.get_or_create(name=role.value)
    if created:
        from bostadforst.signals import sync_role_permissions

        sync_role_permissions(sender=None)
    return group


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="sv_SE")
    last_name = factory.Faker("last_name", locale="sv_SE")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.se")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted: Role | None, **kwargs):
        if create and extracted:
            self.groups.add(role_group(Role(extracted)))
            if extracted == Role.ADMINISTRATOR:
                self.is_staff = True
                self.save(update_fields=["is_staff"])
