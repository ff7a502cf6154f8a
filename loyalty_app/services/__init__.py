"""Service layer: owns database transactions; states call these, pages never do."""
