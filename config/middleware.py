class ChosenLanguageOnly:
    """The browser's Accept-Language is not the user's choice: an office PC or a browser set to English
    must still open the Chinese system. Another language only through the language menu (its cookie)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
