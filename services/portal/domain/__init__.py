"""The portal's rules, pure: accounts and sign-in throttling, who may see what, dates as people read them."""
