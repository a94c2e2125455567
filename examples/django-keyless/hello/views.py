from django.http import HttpResponse


def index(request):
    return HttpResponse("Hello from a keylessly signed image.\n", content_type="text/plain")
