"""The 80 COCO classes as Rekognition names them: one table for every local detector.

A query for Person (or Car, or Dog) then asks every detector at once. Names are
Rekognition's where its taxonomy is known to spell the thing otherwise (sports ball is
Ball, cell phone is Mobile Phone, tennis racket is Racket, tv is TV, remote is Remote
Control); the rest are the COCO name in Rekognition's title case. Parents are the few that
are obvious and short, never a guess at Rekognition's whole hierarchy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_VEHICLE = ("Vehicle", "Transportation")
_PET = ("Animal", "Mammal", "Pet")
_MAMMAL = ("Animal", "Mammal")
_FRUIT = ("Fruit", "Food")
_VEGETABLE = ("Vegetable", "Food")
_FOOD = ("Food",)
_FURNITURE = ("Furniture",)
_ELECTRONICS = ("Electronics",)
_APPLIANCE = ("Appliance",)


@dataclass(frozen=True)
class LabelName:
    """How one COCO class is reported: its label name and its parents' names."""

    name: str
    parents: tuple[str, ...] = ()


# Keyed by the class id the TensorFlow zoo's COCO models output (1-90, with the ten gaps
# of COCO's original 91-class list; 0 is the background).
COCO_LABELS: Mapping[int, LabelName] = {
    1: LabelName("Person"),
    2: LabelName("Bicycle", _VEHICLE),
    3: LabelName("Car", _VEHICLE),
    4: LabelName("Motorcycle", _VEHICLE),
    5: LabelName("Airplane", ("Aircraft", *_VEHICLE)),
    6: LabelName("Bus", _VEHICLE),
    7: LabelName("Train", _VEHICLE),
    8: LabelName("Truck", _VEHICLE),
    9: LabelName("Boat", _VEHICLE),
    10: LabelName("Traffic Light"),
    11: LabelName("Fire Hydrant"),
    13: LabelName("Stop Sign"),
    14: LabelName("Parking Meter"),
    15: LabelName("Bench", _FURNITURE),
    16: LabelName("Bird", ("Animal",)),
    17: LabelName("Cat", _PET),
    18: LabelName("Dog", _PET),
    19: LabelName("Horse", _MAMMAL),
    20: LabelName("Sheep", _MAMMAL),
    21: LabelName("Cow", _MAMMAL),
    22: LabelName("Elephant", _MAMMAL),
    23: LabelName("Bear", _MAMMAL),
    24: LabelName("Zebra", _MAMMAL),
    25: LabelName("Giraffe", _MAMMAL),
    27: LabelName("Backpack"),
    28: LabelName("Umbrella"),
    31: LabelName("Handbag"),
    32: LabelName("Tie"),
    33: LabelName("Suitcase"),
    34: LabelName("Frisbee"),
    35: LabelName("Ski"),
    36: LabelName("Snowboard"),
    37: LabelName("Ball"),
    38: LabelName("Kite"),
    39: LabelName("Baseball Bat"),
    40: LabelName("Baseball Glove"),
    41: LabelName("Skateboard"),
    42: LabelName("Surfboard"),
    43: LabelName("Racket"),
    44: LabelName("Bottle"),
    46: LabelName("Wine Glass"),
    47: LabelName("Cup"),
    48: LabelName("Fork"),
    49: LabelName("Knife"),
    50: LabelName("Spoon"),
    51: LabelName("Bowl"),
    52: LabelName("Banana", _FRUIT),
    53: LabelName("Apple", _FRUIT),
    54: LabelName("Sandwich", _FOOD),
    55: LabelName("Orange", _FRUIT),
    56: LabelName("Broccoli", _VEGETABLE),
    57: LabelName("Carrot", _VEGETABLE),
    58: LabelName("Hot Dog", _FOOD),
    59: LabelName("Pizza", _FOOD),
    60: LabelName("Donut", _FOOD),
    61: LabelName("Cake", _FOOD),
    62: LabelName("Chair", _FURNITURE),
    63: LabelName("Couch", _FURNITURE),
    64: LabelName("Potted Plant", ("Plant",)),
    65: LabelName("Bed", _FURNITURE),
    67: LabelName("Dining Table", _FURNITURE),
    70: LabelName("Toilet"),
    72: LabelName("TV", _ELECTRONICS),
    73: LabelName("Laptop", _ELECTRONICS),
    74: LabelName("Mouse", _ELECTRONICS),
    75: LabelName("Remote Control", _ELECTRONICS),
    76: LabelName("Keyboard", _ELECTRONICS),
    77: LabelName("Mobile Phone", _ELECTRONICS),
    78: LabelName("Microwave", _APPLIANCE),
    79: LabelName("Oven", _APPLIANCE),
    80: LabelName("Toaster", _APPLIANCE),
    81: LabelName("Sink"),
    82: LabelName("Refrigerator", _APPLIANCE),
    84: LabelName("Book"),
    85: LabelName("Clock"),
    86: LabelName("Vase"),
    87: LabelName("Scissors"),
    88: LabelName("Teddy Bear", ("Toy",)),
    89: LabelName("Hair Dryer", _APPLIANCE),
    90: LabelName("Toothbrush"),
}

PERSON = COCO_LABELS[1]
