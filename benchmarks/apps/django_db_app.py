"""Django on PostgreSQL: the ORM on psycopg 3 with Django's connection pool, Django templates.

The ``startproject`` settings (``django_settings``), with the database and the template
directory set; served over WSGI. The pool (``OPTIONS["pool"]``, psycopg_pool) holds a
fixed number of connections, as every app in the suite does; a request borrows one for
its queries and gives it back when it finishes.
"""

from operator import attrgetter

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import models
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path

from benchmarks.apps.django_settings import STARTPROJECT
from benchmarks.apps.techempower import (
    ADDED_FORTUNE,
    POOL_SIZE,
    SCHEMA,
    TEMPLATES_DIR,
    random_id,
    url_parts,
)

_templates = [{**STARTPROJECT["TEMPLATES"][0], "DIRS": [TEMPLATES_DIR]}]
settings.configure(
    **{
        **STARTPROJECT,
        "ROOT_URLCONF": __name__,
        "TEMPLATES": _templates,
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                **url_parts(),
                "OPTIONS": {
                    "pool": {"min_size": POOL_SIZE, "max_size": POOL_SIZE},
                    "options": f"-c search_path={SCHEMA}",
                },
            }
        },
    }
)
# Defining models needs the app registry, which needs the settings.
django.setup()


class World(models.Model):
    randomnumber = models.IntegerField()

    class Meta:
        app_label = "bench"
        db_table = "world"
        managed = False


class Fortune(models.Model):
    message = models.CharField(max_length=2048)

    class Meta:
        app_label = "bench"
        db_table = "fortune"
        managed = False


def single_row(request: HttpRequest) -> JsonResponse:
    world = get_object_or_404(World, id=random_id())
    return JsonResponse({"id": world.id, "randomNumber": world.randomnumber})


def fortunes(request: HttpRequest) -> HttpResponse:
    rows = list(Fortune.objects.all())
    rows.append(Fortune(id=0, message=ADDED_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return render(request, "fortunes.html", {"fortunes": rows})


urlpatterns = [path("db", single_row), path("fortunes", fortunes)]

application = get_wsgi_application()
