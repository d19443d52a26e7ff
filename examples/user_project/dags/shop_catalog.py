"""What we read from PayPal and where it lands in XDM, shared by the pipelines of this folder."""

from __future__ import annotations

#: The PayPal table our dataflows read, and the column that dates each row.
TABLE = "PayPal.Catalog_Products"
DELTA_COLUMN = "Update_Time"
COLUMNS = [
    {"name": "Product_Id", "type": "string", "xdm": {"type": "string"}},
    {"name": "Product_Name", "type": "string", "xdm": {"type": "string"}},
    {"name": "Update_Time", "type": "string", "xdm": {"type": "string"}},
]
MAPPINGS = [
    {"sourceAttribute": "Product_Id", "destinationXdmPath": "_id", "identity": False},
    {"sourceAttribute": "Product_Name", "destinationXdmPath": "product.name", "identity": False},
]
