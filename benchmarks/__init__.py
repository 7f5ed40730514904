"""medbot package."""
