"""AI writing: providers behind one interface and a gateway that falls back in order.

    from outreach.ai.gateway import ai_generate, ai_providers
    from outreach.ai.base import AIRequest
    outcome = ai_generate(request=AIRequest(system, prompt, purpose="classify"), parse=my_parser)

See docs/compose.md.
"""
