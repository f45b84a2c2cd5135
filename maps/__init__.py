"""Interactive Folium maps that draw offline."""
