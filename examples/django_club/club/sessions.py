def start_member_session(request, member):
    """Store the member in a fresh session: the key is cycled first."""
    request.session.cycle_key()
    request.session["member_id"] = member.pk
