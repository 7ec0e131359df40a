"""The only package that imports twilio: signature checks, TwiML building, the REST adapter."""
