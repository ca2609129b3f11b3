Bh3JsÙ¾'Â/½»RDA±u¾`©G¾ÿ
hA