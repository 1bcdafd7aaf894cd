"""The customer template (客户管理模板): what a business records, requires and classifies.

>>> from custrec.template import Template
>>> retail = Template.preset("retail")
>>> [d.name for d in retail.dimensions][:2]
['value_tier', 'frequency']

Templates are built in Python or loaded from TOML or JSON (:meth:`Template.load`); the
presets ``retail``, ``hotel`` and ``b2b`` ship with the package.
"""

from custrec.template._fields import CustomField, FieldType
from custrec.template._template import (
    ENTRY_FIELDS,
    DimensionSpec,
    FollowUpPolicy,
    RuleSpec,
    Template,
)

__all__ = [
    "ENTRY_FIELDS",
    "CustomField",
    "DimensionSpec",
    "FieldType",
    "FollowUpPolicy",
    "RuleSpec",
    "Template",
]
