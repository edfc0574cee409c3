"""Customer service: personalised recommendation and the support chatbot."""
